"""Tests of scanners, customer displays, discovery and hot-plug in the box daemon."""
