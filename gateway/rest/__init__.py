"""The REST front door: FastAPI on uvicorn, in the gateway process, beside the Thrift server."""
