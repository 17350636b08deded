"""The scripted demo day: a world of simulated devices, HQ and the daemon (not the product)."""
