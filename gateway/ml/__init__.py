"""The ML runtime: the Algorithm contract, model store, scorers, SQL functions and algorithms."""
