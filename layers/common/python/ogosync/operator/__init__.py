"""The operator's surface: set-up and status of integrations, as services (testable without HTTP) and as the
routes of the operator HTTP API (`api.py`, routers in `routes/`)."""
