"""Offline Flow JSON validation: catch before Meta what Meta would refuse.

Pure Python (no Django, no database). `validate_flow_json` returns `FlowValidationError` values that
mirror the `validation_errors` of Meta's flow-asset upload.
"""

from .document import validate_flow_json
from .errors import ErrorCode, FlowValidationError
from .specs import COMPONENT_SPECS, SUPPORTED_DATA_API_VERSIONS, SUPPORTED_VERSIONS

__all__ = [
    "COMPONENT_SPECS",
    "SUPPORTED_DATA_API_VERSIONS",
    "SUPPORTED_VERSIONS",
    "ErrorCode",
    "FlowValidationError",
    "validate_flow_json",
]
