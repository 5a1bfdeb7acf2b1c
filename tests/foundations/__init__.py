"""Tests of the foundations: time text, log folding, redaction, waits, file modes."""
