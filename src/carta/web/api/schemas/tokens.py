"""Asking for a token."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from carta.web.api.schemas.fields import InputSchema, Text


class TokenIn(InputSchema):
    """The credentials of the login page."""

    username: Text = Field(..., min_length=1, max_length=150)
    password: Text = Field(..., min_length=1, max_length=4096)


class TokenOut(Schema):
    """A bearer token (shown once) and when it stops working."""

    token: str = Field(..., description="Send as `Authorization: Bearer <token>`.")
    expires: datetime
