"""The TCLIService (HiveServer2) IDL and the Python code generated from it by the Thrift compiler.

Regenerate with `make idl`. Server and client both import `thrift_idl.gen.TCLIService`.
"""
