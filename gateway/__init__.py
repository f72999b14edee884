"""mlsql-gateway server: transports, auth, sessions, operations, results and the Spark engine."""
