"""Transports: the binary Thrift transport with SASL PLAIN or NOSASL on one port."""
