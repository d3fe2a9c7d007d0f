"""carta's registry web application (Django): thin views over services, selectors and rules.

Apps: :mod:`carta.web.accounts` (centers, memberships, the only center-scoping code),
:mod:`carta.web.audit` (append-only audit trail) and :mod:`carta.web.registry` (the data model
of a CAR-T patient's journey, with its services, selectors and adapters to
:mod:`carta.clinical`).
"""
