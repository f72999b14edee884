"""Front doors: the HiveServer2 Thrift service (binary transport); REST comes later."""
