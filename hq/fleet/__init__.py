"""The fleet: box and device registry from births, deaths and telemetry."""
