"""Response processors: turn a completed flow's answers into tenant records.

Register one per flow name with `@flow_processor("flow_name")`; importing this package registers
the built-in ones (service_requests, tour_inquiries).
"""

from flows_builder.processors import service_requests, tour_inquiries  # noqa: F401  (register the built-ins)
from flows_builder.processors.registry import (
    FLOW_PROCESSORS,
    FlowProcessor,
    ProcessedRecord,
    ResponseInvalid,
    flow_processor,
)

__all__ = ["FLOW_PROCESSORS", "FlowProcessor", "ProcessedRecord", "ResponseInvalid", "flow_processor"]
