"""Running MLSQL scripts on Spark: the statement executor behind ExecuteStatement (and, later, REST)."""
