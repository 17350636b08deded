"""Serial scales: protocols as data, a sans-I/O frame parser, readings in grams."""

from drivers.scale.parser import Reading, ScaleParser, Status
from drivers.scale.protocol import ScaleProtocol, builtin_protocols, protocol_from_mapping

__all__ = [
    "Reading",
    "ScaleParser",
    "ScaleProtocol",
    "Status",
    "builtin_protocols",
    "protocol_from_mapping",
]
