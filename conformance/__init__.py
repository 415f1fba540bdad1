"""Conformance suite for the MiCC Enterprise Open Media Service (SOAP)."""

__version__ = "0.1.0"
