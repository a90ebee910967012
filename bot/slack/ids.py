"""Names Slack hands back to us: our buttons' action ids and our messages' metadata types.

A button or a posted message outlives the process that made it: Slack sends a click's
`action_id` back to whichever version of the bot runs then, and crash recovery finds an
alert or a digest by its metadata `event_type`. Each name is defined here once, so the
code that writes it and the code that looks for it cannot drift apart.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- buttons

SHARE_MODEL = "share_model"
RELEASE_DETAILS = "release_details"
MUTE_LAB = "mute_lab"
OPEN_MODEL_HUB = "open_model_hub"  # link buttons: Slack still wants an ack
OPEN_LAB_HUB = "open_lab_hub"
URL_BUTTONS = re.compile(r"^open_")
MODEL_ALTERNATIVE = re.compile(r"^model_alternative_\d+$")


def model_alternative(index: int) -> str:
    """The action id of the `index`th "did you mean" button (ids must differ in a block)."""
    return f"model_alternative_{index}"


# ------------------------------------------------------------------ message metadata

RELEASE_EVENT = "radar_release"  # an alert; payload {"release_id"}
RELEASE_UPDATE_EVENT = "radar_release_update"  # a thread reply; payload {"update"}
DIGEST_EVENT = "radar_digest"  # payload {"period"} (scheduled) or {"manual"}
