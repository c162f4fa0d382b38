"""Status lists: Bitstring Status List v1.0 and StatusList2021.

Encode/decode, entries, list credentials, random collision-free index allocation, and status
checking for verifiers.
"""

from sceau_credentials.status.bitstring import (
    MIN_ENTRIES,
    Bitstring,
    decode_bitstring_status_list,
    decode_status_list_2021,
    encode_bitstring_status_list,
    encode_status_list_2021,
)
from sceau_credentials.status.checker import (
    ListStatusChecker,
    StatusChecker,
    StatusEntryResult,
    StatusListFetcher,
)
from sceau_credentials.status.entries import (
    StatusEntry,
    StatusPurpose,
    bitstring_status_list_credential,
    parse_status_entries,
    status_entry,
    status_list_2021_credential,
)
from sceau_credentials.status.errors import (
    StatusListError,
    StatusListFullError,
    StatusListLengthError,
    StatusMalformedError,
    StatusRangeError,
    StatusRetrievalError,
    StatusVerificationError,
)
from sceau_credentials.status.permutation import KeyedPermutation

__all__ = [
    "MIN_ENTRIES",
    "Bitstring",
    "KeyedPermutation",
    "ListStatusChecker",
    "StatusChecker",
    "StatusEntry",
    "StatusEntryResult",
    "StatusListError",
    "StatusListFetcher",
    "StatusListFullError",
    "StatusListLengthError",
    "StatusMalformedError",
    "StatusPurpose",
    "StatusRangeError",
    "StatusRetrievalError",
    "StatusVerificationError",
    "bitstring_status_list_credential",
    "decode_bitstring_status_list",
    "decode_status_list_2021",
    "encode_bitstring_status_list",
    "encode_status_list_2021",
    "parse_status_entries",
    "status_entry",
    "status_list_2021_credential",
]
