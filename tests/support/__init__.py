"""Shared test support: deterministic event streams and the moto-backed pipeline harness."""
