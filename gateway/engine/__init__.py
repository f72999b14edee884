"""The execution engine: Spark sessions, statement executors, Arrow streaming and job control."""
