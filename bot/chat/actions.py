"""Ids Slack sends back: callback ids of views, block ids of inputs, action ids of buttons. Pure.

One home for every id, so a builder and the listener that reads its answer can
never disagree about a spelling. A card button's ``value`` is the custody id; the
handler reads the custody from the store, never from the click.
"""

from __future__ import annotations

from typing import Final

# --- the arrest modal and App Home ---------------------------------------------------

# The arrest form (``/wso arrest`` with no arguments): its callback id and its input blocks.
ARREST_MODAL = "wso_arrest_modal"
ARREST_BOOKING = "wso_arrest_booking"
ARREST_WARRANT_FORM = "wso_arrest_warrant_form"
ARREST_WARRANT_NUMBER = "wso_arrest_warrant_number"
ARREST_DATE = "wso_arrest_date"
ARREST_TIME = "wso_arrest_time"
ARREST_FACILITY = "wso_arrest_facility"
ARREST_NOTES = "wso_arrest_notes"
ARREST_A_NUMBER = "wso_arrest_a_number"
# Each input block holds one element; its action id is the block id with this suffix.
INPUT_SUFFIX = "_input"

# App Home buttons on an open custody (what they do is wired with the custody card's buttons).
HOME_STATUS = "wso_home_status"
HOME_OPEN_ARREST_FORM = "wso_home_arrest_form"


def input_action(block_id: str) -> str:
    """The action id of the one element in the input block ``block_id``."""
    return block_id + INPUT_SUFFIX


# --- the custody card's buttons (bot.chat.cards) ----------------------------------------

CARD_ACTIONS_BLOCK: Final = "wso_card_actions"

TRANSFER: Final = "wso_card_transfer"  # "ICE took custody": time and receiving officer
RELEASE: Final = "wso_card_release"  # "Released": a reason from a list, or typed
IGSA: Final = "wso_card_igsa"  # "IGSA housing": only where the facility has an IGSA
ADD_NOTE: Final = "wso_card_note"  # "Add note": a note in the card's thread

CARD_ACTION_IDS: Final = (TRANSFER, RELEASE, IGSA, ADD_NOTE)

# --- the modals the card's buttons open (bot.chat.card_modals) ----------------------------

TRANSFER_MODAL: Final = "wso_transfer_modal"  # when ICE took custody, and who received
TRANSFER_CONFIRM: Final = "wso_transfer_confirm"  # the same, read back before it is recorded
TRANSFER_DATE: Final = "wso_transfer_date"
TRANSFER_TIME: Final = "wso_transfer_time"
TRANSFER_RECEIVED_BY: Final = "wso_transfer_received_by"

RELEASE_MODAL: Final = "wso_release_modal"
RELEASE_REASON: Final = "wso_release_reason"  # a static select of RELEASE_REASONS
RELEASE_DETAILS: Final = "wso_release_details"  # free text; required for "Other"

NOTE_MODAL: Final = "wso_note_modal"
NOTE_TEXT: Final = "wso_note_text"

CARD_MODALS: Final = (TRANSFER_MODAL, TRANSFER_CONFIRM, RELEASE_MODAL, NOTE_MODAL)
