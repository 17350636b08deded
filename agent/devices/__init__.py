"""Scanners, customer displays, device discovery and hot-plug for the box daemon."""
