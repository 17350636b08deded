"""The box's link to HQ over MQTT: session, outbox, command and cloud-print intake."""
