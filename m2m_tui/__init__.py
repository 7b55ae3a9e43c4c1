"""m2m-tui: troubleshoot cellular IoT devices on Verizon ThingSpace from the terminal."""

__version__ = "0.1.0"
