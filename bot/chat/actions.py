"""``action_id`` and ``block_id`` of the custody card's buttons. Pure.

One home for the ids, so the card (``bot.chat.cards``) and the handlers that
answer its buttons agree. Each button's ``value`` is the custody id; the
handler reads the custody from the store, never from the click.
"""

from __future__ import annotations

from typing import Final

CARD_ACTIONS_BLOCK: Final = "wso_card_actions"

TRANSFER: Final = "wso_card_transfer"  # "ICE took custody": time and receiving officer
RELEASE: Final = "wso_card_release"  # "Released": a reason from a list, or typed
IGSA: Final = "wso_card_igsa"  # "IGSA housing": only where the facility has an IGSA
ADD_NOTE: Final = "wso_card_note"  # "Add note": a note in the card's thread

CARD_ACTION_IDS: Final = (TRANSFER, RELEASE, IGSA, ADD_NOTE)
