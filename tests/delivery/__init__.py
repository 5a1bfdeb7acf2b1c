"""Tests of deliveries: messages, failures, state events and columns, withdrawals."""
