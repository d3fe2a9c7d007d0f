"""Seed the Product table from the CAR-T catalogue in :mod:`carta.clinical.products`."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from carta.web.registry.catalogue import sync_products


def seed(apps: Any, schema_editor: Any) -> None:
    sync_products(apps.get_model("registry", "Product"))


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
