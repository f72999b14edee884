"""Operations: the state machine, statements, metadata requests and their manager."""
