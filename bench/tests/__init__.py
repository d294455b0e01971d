"""Unit tests of the bench's pure parts (statistics and target judging): `python3 -m unittest
discover -s bench/tests -t bench`, run by `cargo xtask ci`."""
