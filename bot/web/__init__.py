"""The dashboard, REST API and Prometheus metrics (FastAPI): see docs/dashboard.md."""
