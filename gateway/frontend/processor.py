"""The TCLIService processor, with FetchResults answered from pre-encoded bytes on the columnar fast path.

The handler's ``fetch_results_fast`` returns either a TFetchResultsResp object (errors, logs, row-based
protocols) or the TBinaryProtocol bytes of one, written straight from Arrow buffers; the bytes go on the wire
without building per-value Python objects.
"""

from __future__ import annotations

import logging

from thrift.Thrift import TApplicationException, TMessageType, TType
from thrift.transport.TTransport import TTransportException

from thrift_idl.gen.TCLIService import TCLIService

log = logging.getLogger(__name__)

_SUCCESS_FIELD = b"\x0c\x00\x00"  # FetchResults_result.success: STRUCT, id 0
_STOP = b"\x00"


class FastProcessor(TCLIService.Processor):
    """Generated processor; unknown RPCs (GetLog) get TApplicationException(UNKNOWN_METHOD) from the base."""

    def __init__(self, handler) -> None:
        super().__init__(handler)
        self._processMap["FetchResults"] = FastProcessor._process_fetch_results

    def process(self, iprot, oprot):
        name, _type, seqid = iprot.readMessageBegin()
        handler = self._processMap.get(name)
        if handler is not None:
            handler(self, seqid, iprot, oprot)
            return True
        # Unknown RPC (e.g. GetLog from PyHive/impyla): skip its arguments, then UNKNOWN_METHOD, as HS2 does.
        skip_binary_safe(iprot, TType.STRUCT)
        iprot.readMessageEnd()
        oprot.writeMessageBegin(name, TMessageType.EXCEPTION, seqid)
        TApplicationException(TApplicationException.UNKNOWN_METHOD, f"Unknown function {name}").write(oprot)
        oprot.writeMessageEnd()
        oprot.trans.flush()
        return None

    def _process_fetch_results(self, seqid, iprot, oprot) -> None:
        args = TCLIService.FetchResults_args()
        args.read(iprot)
        iprot.readMessageEnd()
        try:
            reply = self._handler.fetch_results_fast(args.req)
        except TTransportException:
            raise
        except Exception:  # noqa: BLE001 - the handler answers errors itself; this is a last resort
            log.exception("FetchResults failed")
            oprot.writeMessageBegin("FetchResults", TMessageType.EXCEPTION, seqid)
            TApplicationException(TApplicationException.INTERNAL_ERROR, "internal error").write(oprot)
            oprot.writeMessageEnd()
            oprot.trans.flush()
            return
        oprot.writeMessageBegin("FetchResults", TMessageType.REPLY, seqid)
        if isinstance(reply, bytes | bytearray | memoryview):
            trans = oprot.trans
            trans.write(_SUCCESS_FIELD)
            trans.write(reply)
            trans.write(_STOP)
        else:
            TCLIService.FetchResults_result(success=reply).write(oprot)
        oprot.writeMessageEnd()
        oprot.trans.flush()


def skip_binary_safe(prot, ttype: int, depth: int = 0) -> None:
    """Skip a value like TProtocolBase.skip, but read strings as bytes (handles carry binary guids)."""
    if depth > 64:
        raise TTransportException(TTransportException.UNKNOWN, "nesting too deep")
    if ttype == TType.STRUCT:
        prot.readStructBegin()
        while True:
            _name, ftype, _fid = prot.readFieldBegin()
            if ftype == TType.STOP:
                break
            skip_binary_safe(prot, ftype, depth + 1)
            prot.readFieldEnd()
        prot.readStructEnd()
    elif ttype == TType.STRING:
        prot.readBinary()
    elif ttype == TType.MAP:
        ktype, vtype, size = prot.readMapBegin()
        for _ in range(size):
            skip_binary_safe(prot, ktype, depth + 1)
            skip_binary_safe(prot, vtype, depth + 1)
        prot.readMapEnd()
    elif ttype in (TType.LIST, TType.SET):
        etype, size = prot.readListBegin() if ttype == TType.LIST else prot.readSetBegin()
        for _ in range(size):
            skip_binary_safe(prot, etype, depth + 1)
        prot.readListEnd() if ttype == TType.LIST else prot.readSetEnd()
    else:
        prot.skip(ttype)
