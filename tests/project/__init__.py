"""Tests of the project's shape: import structure and packaging."""
