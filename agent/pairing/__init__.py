"""The box's MQTT identity: its TLS key (made on the box, never leaving it) and the CSR HQ signs."""
