"""A FetchResults reply reader that takes fixed-width TColumns straight from the wire bytes into numpy arrays.

The generated Thrift code (even with the C accelerator) turns every BIGINT/INT/DOUBLE/BOOLEAN value into a Python
object. Here the reply is walked field by field; a ``list<i64>``/``list<double>``/... of a TColumn is one
``readAll`` of ``n * width`` bytes viewed with ``numpy.frombuffer`` (big-endian, converted to native order once).
String and binary columns and everything else (TStatus, row-based sets) still go through the C decoder.
The result is an ordinary ``TFetchResultsResp`` whose fixed-width ``values`` are numpy arrays instead of lists.

Used only when numpy is installed and the transport is a ``CReadableTransport`` (both client transports are).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from thrift.protocol.TProtocol import TProtocolBase
from thrift.Thrift import TApplicationException, TMessageType, TType

from thrift_idl.gen.TCLIService import ttypes

# TColumn field id -> (attribute, column struct, element thrift type, numpy dtype of the wire values)
_FIXED = {
    1: ("boolVal", ttypes.TBoolColumn, TType.BOOL, np.dtype("u1")),
    2: ("byteVal", ttypes.TByteColumn, TType.BYTE, np.dtype("i1")),
    3: ("i16Val", ttypes.TI16Column, TType.I16, np.dtype(">i2")),
    4: ("i32Val", ttypes.TI32Column, TType.I32, np.dtype(">i4")),
    5: ("i64Val", ttypes.TI64Column, TType.I64, np.dtype(">i8")),
    6: ("doubleVal", ttypes.TDoubleColumn, TType.DOUBLE, np.dtype(">f8")),
}
_VARIABLE = {7: ("stringVal", ttypes.TStringColumn), 8: ("binaryVal", ttypes.TBinaryColumn)}


def _fields(iprot: TProtocolBase):
    """(type, id) of each field of the struct being read, up to STOP (the caller reads or skips each)."""
    iprot.readStructBegin()
    while True:
        _, ftype, fid = iprot.readFieldBegin()
        if ftype == TType.STOP:
            break
        yield ftype, fid
        iprot.readFieldEnd()
    iprot.readStructEnd()


def _read_fixed(iprot: TProtocolBase, cls: type, etype: int, dtype: np.dtype) -> Any:
    col = cls()
    for ftype, fid in _fields(iprot):
        if fid == 1 and ftype == TType.LIST:
            got, size = iprot.readListBegin()
            if got != etype:
                raise TApplicationException(TApplicationException.PROTOCOL_ERROR,
                                            f"unexpected element type {got} in {cls.__name__}")
            data = iprot.trans.readAll(size * dtype.itemsize) if size else b""
            values = np.frombuffer(data, dtype=dtype, count=size)
            if etype == TType.BOOL:
                values = values != 0
            elif dtype.byteorder == ">":
                values = values.astype(dtype.newbyteorder("="))
            col.values = values
            iprot.readListEnd()
        elif fid == 2 and ftype == TType.STRING:
            col.nulls = iprot.readBinary()
        else:
            iprot.skip(ftype)
    return col


def _read_column(iprot: TProtocolBase) -> ttypes.TColumn:
    col = ttypes.TColumn()
    for ftype, fid in _fields(iprot):
        if ftype == TType.STRUCT and fid in _FIXED:
            attr, cls, etype, dtype = _FIXED[fid]
            setattr(col, attr, _read_fixed(iprot, cls, etype, dtype))
        elif ftype == TType.STRUCT and fid in _VARIABLE:
            attr, cls = _VARIABLE[fid]
            value = cls()
            value.read(iprot)  # C decoder
            setattr(col, attr, value)
        else:
            iprot.skip(ftype)
    return col


def _read_rowset(iprot: TProtocolBase) -> ttypes.TRowSet:
    rowset = ttypes.TRowSet()
    for ftype, fid in _fields(iprot):
        if fid == 1 and ftype == TType.I64:
            rowset.startRowOffset = iprot.readI64()
        elif fid == 2 and ftype == TType.LIST:
            _, size = iprot.readListBegin()
            rows = []
            for _ in range(size):
                row = ttypes.TRow()
                row.read(iprot)
                rows.append(row)
            rowset.rows = rows
            iprot.readListEnd()
        elif fid == 3 and ftype == TType.LIST:
            _, size = iprot.readListBegin()
            rowset.columns = [_read_column(iprot) for _ in range(size)]
            iprot.readListEnd()
        elif fid == 4 and ftype == TType.STRING:
            rowset.binaryColumns = iprot.readBinary()
        elif fid == 5 and ftype == TType.I32:
            rowset.columnCount = iprot.readI32()
        else:
            iprot.skip(ftype)
    return rowset


def _read_resp(iprot: TProtocolBase) -> ttypes.TFetchResultsResp:
    resp = ttypes.TFetchResultsResp()
    for ftype, fid in _fields(iprot):
        if fid == 1 and ftype == TType.STRUCT:
            resp.status = ttypes.TStatus()
            resp.status.read(iprot)
        elif fid == 2 and ftype == TType.BOOL:
            resp.hasMoreRows = iprot.readBool()
        elif fid == 3 and ftype == TType.STRUCT:
            resp.results = _read_rowset(iprot)
        else:
            iprot.skip(ftype)
    return resp


def recv_fetch_results(iprot: TProtocolBase) -> ttypes.TFetchResultsResp:
    """Read one FetchResults reply (what ``Client.recv_FetchResults`` does, with numpy fixed-width columns)."""
    _, mtype, _ = iprot.readMessageBegin()
    if mtype == TMessageType.EXCEPTION:
        exc = TApplicationException()
        exc.read(iprot)
        iprot.readMessageEnd()
        raise exc
    resp = None
    for ftype, fid in _fields(iprot):  # FetchResults_result: field 0 is the success value
        if fid == 0 and ftype == TType.STRUCT:
            resp = _read_resp(iprot)
        else:
            iprot.skip(ftype)
    iprot.readMessageEnd()
    if resp is None:
        raise TApplicationException(TApplicationException.MISSING_RESULT, "FetchResults failed: unknown result")
    return resp
