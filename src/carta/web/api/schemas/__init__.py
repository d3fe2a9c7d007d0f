"""The shapes of the API's requests and responses (pydantic, through django-ninja).

Shape only: no query, no permission, no clinical computation. Input schemas copy the limits
of the model fields they feed (:mod:`carta.web.api.schemas.fields`).
"""
