"""The flags every AWS-facing command shares: --region and --endpoint-url (no credentials:
those come from the standard AWS chain only)."""

from __future__ import annotations

from typing import Annotated

import typer

AWS = "AWS"

RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region", help="AWS region (default: AWS_REGION or the profile's).", rich_help_panel=AWS
    ),
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Send AWS calls here, e.g. an emulator (default: AWS_ENDPOINT_URL, else AWS).",
        rich_help_panel=AWS,
    ),
]
