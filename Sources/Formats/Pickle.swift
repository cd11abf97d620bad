/// A restricted unpickler for PyTorch state_dict pickles.
///
/// It understands the opcodes `torch.save` writes for dictionaries of tensors (protocols 2–4) and builds
/// only what a state_dict needs: dictionaries, lists, tuples, scalars, strings, storages and tensors. A pickle
/// that names any other global (a function or class that unpickling would call) is rejected before anything
/// is called — nothing is ever executed.
struct RestrictedUnpickler {
    /// Values the unpickler can build.
    indirect enum Value {
        case none, bool(Bool), int(Int), float(Double), string(String), bytes([UInt8])
        case tuple([Value]), list([Value]), dict([(Value, Value)])
        case global(String)
        /// A persistent storage reference: archive key and element type.
        case storage(key: String, type: String)
        case tensor(StoredTensor)
        case mark
    }

    /// A tensor view on a storage, before its bytes are read.
    struct StoredTensor {
        let storageKey: String
        let storageType: String
        let offset: Int
        let shape: [Int]
        let strides: [Int]
    }

    static let allowedGlobals: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state", "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage",
        "torch.BFloat16Storage", "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
        "torch.ByteStorage", "torch.BoolStorage",
    ]

    let bytes: [UInt8]
    var position = 0
    var stack: [Value] = []
    var memo: [Int: Value] = [:]

    init(bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    func fail(_ reason: String) -> ModelFileError { .malformed(format: "PyTorch pickle", reason: reason) }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, position <= bytes.count - count else { throw fail("ends inside an opcode at byte \(position)") }
        defer { position += count }
        return bytes[position..<position + count]
    }

    mutating func unsigned(_ count: Int) throws -> Int {
        try take(count).reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    mutating func pop() throws -> Value {
        guard let value = stack.popLast() else { throw fail("stack underflow at byte \(position)") }
        return value
    }

    /// Pops values down to the last mark.
    mutating func popToMark() throws -> [Value] {
        guard let index = stack.lastIndex(where: { if case .mark = $0 { return true } else { return false } }) else {
            throw fail("missing mark at byte \(position)")
        }
        let items = Array(stack[(index + 1)...])
        stack.removeSubrange(index...)
        return items
    }

    mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("unterminated line") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    mutating func global(_ module: String, _ name: String) throws -> Value {
        let qualified = "\(module).\(name)"
        guard Self.allowedGlobals.contains(qualified) else {
            throw ModelFileError.unsupported(format: "PyTorch pickle",
                                             reason: "it references \(qualified), which unpickling would call; only plain state_dicts of tensors are loaded")
        }
        return .global(qualified)
    }

    /// Runs the pickle and returns its result.
    mutating func load() throws -> Value {
        var steps = 0
        while true {
            steps += 1
            guard steps < 50_000_000 else { throw fail("too many opcodes") }
            let opcode = try take(1).first!
            switch opcode {
            case 0x80: _ = try take(1)                                   // PROTO
            case 0x95: _ = try take(8)                                   // FRAME
            case 0x2E: return try pop()                                  // STOP
            case 0x7D: stack.append(.dict([]))                           // EMPTY_DICT
            case 0x5D: stack.append(.list([]))                           // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))                          // EMPTY_TUPLE
            case 0x28: stack.append(.mark)                               // MARK
            case 0x4E: stack.append(.none)                               // NONE
            case 0x88: stack.append(.bool(true))                         // NEWTRUE
            case 0x89: stack.append(.bool(false))                        // NEWFALSE
            case 0x4B: stack.append(.int(try unsigned(1)))               // BININT1
            case 0x4D: stack.append(.int(try unsigned(2)))               // BININT2
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try unsigned(4)))))  // BININT
            case 0x8A:                                                   // LONG1
                let count = try unsigned(1)
                if count > 8 {  // only the legacy format's magic number is this wide; its value is not needed
                    _ = try take(count)
                    stack.append(.int(-1))
                    continue
                }
                let raw = try take(count)
                var value = raw.reversed().reduce(0) { $0 << 8 | Int($1) }
                if count > 0, count < 8, raw.last! & 0x80 != 0 { value -= 1 << (8 * count) }
                stack.append(.int(value))
            case 0x47:                                                   // BINFLOAT (big-endian)
                stack.append(.float(Double(bitPattern: UInt64(try take(8).reduce(0) { $0 << 8 | Int($1) }))))
            case 0x58: let n = try unsigned(4); stack.append(.string(String(decoding: try take(n), as: UTF8.self)))  // BINUNICODE
            case 0x8C: let n = try unsigned(1); stack.append(.string(String(decoding: try take(n), as: UTF8.self)))  // SHORT_BINUNICODE
            case 0x55: let n = try unsigned(1); stack.append(.string(String(decoding: try take(n), as: UTF8.self)))  // SHORT_BINSTRING
            case 0x42: let n = try unsigned(4); stack.append(.bytes(Array(try take(n))))                           // BINBYTES
            case 0x43: let n = try unsigned(1); stack.append(.bytes(Array(try take(n))))                           // SHORT_BINBYTES
            case 0x71: memo[try unsigned(1)] = stack.last                // BINPUT
            case 0x72: memo[try unsigned(4)] = stack.last                // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last                     // MEMOIZE
            case 0x68, 0x6A:                                             // BINGET, LONG_BINGET
                let index = try unsigned(opcode == 0x68 ? 1 : 4)
                guard let value = memo[index] else { throw fail("memo \(index) is empty") }
                stack.append(value)
            case 0x63: stack.append(try global(try line(), try line()))  // GLOBAL
            case 0x93:                                                   // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else { throw fail("bad STACK_GLOBAL") }
                stack.append(try global(module, name))
            case 0x74: stack.append(.tuple(try popToMark()))             // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))                 // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))            // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))  // TUPLE3
            case 0x6C: stack.append(.list(try popToMark()))              // LIST
            case 0x64:                                                   // DICT
                stack.append(.dict(try pairs(try popToMark())))
            case 0x61:                                                   // APPEND
                let item = try pop()
                guard case .list(let items) = try pop() else { throw fail("APPEND to a non-list") }
                stack.append(.list(items + [item]))
            case 0x65:                                                   // APPENDS
                let items = try popToMark()
                guard case .list(let existing) = try pop() else { throw fail("APPENDS to a non-list") }
                stack.append(.list(existing + items))
            case 0x73:                                                   // SETITEM
                let value = try pop(), key = try pop()
                guard case .dict(let entries) = try pop() else { throw fail("SETITEM on a non-dict") }
                stack.append(.dict(entries + [(key, value)]))
            case 0x75:                                                   // SETITEMS
                let items = try pairs(try popToMark())
                guard case .dict(let entries) = try pop() else { throw fail("SETITEMS on a non-dict") }
                stack.append(.dict(entries + items))
            case 0x51:                                                   // BINPERSID
                stack.append(try persistent(try pop()))
            case 0x52:                                                   // REDUCE
                let arguments = try pop(), callable = try pop()
                stack.append(try reduce(callable, arguments))
            case 0x62:                                                   // BUILD: state of an OrderedDict or tensor
                _ = try pop()
                guard let target = stack.last else { throw fail("BUILD without an object") }
                switch target {
                case .dict, .tensor: break
                default: throw fail("BUILD on an unsupported object")
                }
            default:
                throw ModelFileError.unsupported(format: "PyTorch pickle", reason: String(format: "opcode 0x%02x at byte %d", opcode, position - 1))
            }
        }
    }

    func pairs(_ items: [Value]) throws -> [(Value, Value)] {
        guard items.count % 2 == 0 else { throw fail("odd number of dictionary items") }
        return stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
    }

    /// `('storage', torch.FloatStorage, key, location, numel)`.
    func persistent(_ id: Value) throws -> Value {
        guard case .tuple(let parts) = id, parts.count >= 3, case .string("storage") = parts[0],
              case .global(let type) = parts[1] else { throw fail("unsupported persistent id") }
        let key: String
        switch parts[2] {
        case .string(let text): key = text
        case .int(let number): key = String(number)
        default: throw fail("storage key is not a string")
        }
        return .storage(key: key, type: type)
    }

    func int(_ value: Value) throws -> Int {
        guard case .int(let number) = value else { throw fail("expected an integer") }
        return number
    }

    func reduce(_ callable: Value, _ arguments: Value) throws -> Value {
        guard case .global(let name) = callable, case .tuple(let args) = arguments else { throw fail("REDUCE of a non-callable") }
        switch name {
        case "collections.OrderedDict":
            return .dict([])
        case "torch._utils._rebuild_tensor_v2":
            guard args.count >= 4, case .storage(let key, let type) = args[0],
                  case .tuple(let size) = args[2], case .tuple(let stride) = args[3] else { throw fail("bad tensor arguments") }
            let shape = try size.map(int), strides = try stride.map(int)
            guard shape.count == strides.count, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
                throw fail("bad tensor shape or strides")
            }
            return .tensor(StoredTensor(storageKey: key, storageType: type, offset: try int(args[1]), shape: shape, strides: strides))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let first = args.first, case .tensor = first else { throw fail("parameter of a non-tensor") }
            return first
        default:
            throw ModelFileError.unsupported(format: "PyTorch pickle", reason: "refusing to call \(name)")
        }
    }
}
