/// A restricted unpickler for PyTorch state_dict pickles.
///
/// It understands the opcodes `torch.save` writes for dictionaries of tensors (protocols 2–4) and builds
/// only what a state_dict needs: dictionaries, lists, tuples, scalars, strings, storages and tensors. A pickle
/// that names any other global (a function or class that unpickling would call) is rejected before anything
/// is called — nothing is ever executed.
///
/// Hostile pickles are bounded: containers nest at most ``maximumDepth`` deep (a deep value would overflow
/// the stack when it is released), and the objects a value holds, counted again wherever a memo reference
/// repeats them ("billion laughs"), may not exceed ``objectBudget``.
struct RestrictedUnpickler {
    /// Deepest container nesting accepted; a state_dict nests about five deep.
    static let maximumDepth = 100
    /// Most objects one value may hold, counting shared ones each time they are referenced.
    static let objectBudget = 10_000_000

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

    /// A value with its nesting depth and its object count (shared objects counted at each reference).
    struct Entry {
        let value: Value
        let depth: Int
        let objects: Int
        init(_ value: Value, depth: Int = 0, objects: Int = 1) {
            self.value = value
            self.depth = depth
            self.objects = objects
        }
    }

    let bytes: [UInt8]
    var position = 0
    var stack: [Entry] = []
    var memo: [Int: Entry] = [:]

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

    mutating func popEntry() throws -> Entry {
        guard let entry = stack.popLast() else { throw fail("stack underflow at byte \(position)") }
        return entry
    }

    mutating func pop() throws -> Value { try popEntry().value }

    /// Pops entries down to the last mark.
    mutating func popToMark() throws -> [Entry] {
        guard let index = stack.lastIndex(where: { if case .mark = $0.value { return true } else { return false } }) else {
            throw fail("missing mark at byte \(position)")
        }
        let items = Array(stack[(index + 1)...])
        stack.removeSubrange(index...)
        return items
    }

    /// Pushes a scalar or an empty container.
    mutating func push(_ value: Value) { stack.append(Entry(value)) }

    /// Pushes `value`, built from `parts` (and the container `into` it extends), checking depth and budget.
    mutating func push(_ value: Value, from parts: [Entry], into container: Entry? = nil) throws {
        let depth = max(container?.depth ?? 0, 1 + (parts.map(\.depth).max() ?? 0))
        let objects = parts.reduce(container?.objects ?? 1) { $0 + $1.objects }
        guard depth <= Self.maximumDepth else { throw fail("values nest deeper than \(Self.maximumDepth) at byte \(position)") }
        guard objects <= Self.objectBudget else {
            throw fail("a value holds more than \(Self.objectBudget) objects (memo references repeat them) at byte \(position)")
        }
        stack.append(Entry(value, depth: depth, objects: objects))
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
            case 0x7D: push(.dict([]))                                   // EMPTY_DICT
            case 0x5D: push(.list([]))                                   // EMPTY_LIST
            case 0x29: push(.tuple([]))                                  // EMPTY_TUPLE
            case 0x28: push(.mark)                                       // MARK
            case 0x4E: push(.none)                                       // NONE
            case 0x88: push(.bool(true))                                 // NEWTRUE
            case 0x89: push(.bool(false))                                // NEWFALSE
            case 0x4B: push(.int(try unsigned(1)))                       // BININT1
            case 0x4D: push(.int(try unsigned(2)))                       // BININT2
            case 0x4A: push(.int(Int(Int32(truncatingIfNeeded: try unsigned(4)))))  // BININT
            case 0x8A:                                                   // LONG1
                let count = try unsigned(1)
                if count > 8 {  // only the legacy format's magic number is this wide; its value is not needed
                    _ = try take(count)
                    push(.int(-1))
                    continue
                }
                let raw = try take(count)
                var value = raw.reversed().reduce(0) { $0 << 8 | Int($1) }
                if count > 0, count < 8, raw.last! & 0x80 != 0 { value -= 1 << (8 * count) }
                push(.int(value))
            case 0x47:                                                   // BINFLOAT (big-endian)
                push(.float(Double(bitPattern: try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case 0x58: let n = try unsigned(4); push(.string(String(decoding: try take(n), as: UTF8.self)))  // BINUNICODE
            case 0x8C: let n = try unsigned(1); push(.string(String(decoding: try take(n), as: UTF8.self)))  // SHORT_BINUNICODE
            case 0x55: let n = try unsigned(1); push(.string(String(decoding: try take(n), as: UTF8.self)))  // SHORT_BINSTRING
            case 0x42: let n = try unsigned(4); push(.bytes(Array(try take(n))))                           // BINBYTES
            case 0x43: let n = try unsigned(1); push(.bytes(Array(try take(n))))                           // SHORT_BINBYTES
            case 0x71: memo[try unsigned(1)] = stack.last                // BINPUT
            case 0x72: memo[try unsigned(4)] = stack.last                // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last                     // MEMOIZE
            case 0x68, 0x6A:                                             // BINGET, LONG_BINGET
                let index = try unsigned(opcode == 0x68 ? 1 : 4)
                guard let entry = memo[index] else { throw fail("memo \(index) is empty") }
                stack.append(entry)
            case 0x63: push(try global(try line(), try line()))          // GLOBAL
            case 0x93:                                                   // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else { throw fail("bad STACK_GLOBAL") }
                push(try global(module, name))
            case 0x74: let items = try popToMark(); try push(.tuple(items.map(\.value)), from: items)   // TUPLE
            case 0x85: let a = try popEntry(); try push(.tuple([a.value]), from: [a])                     // TUPLE1
            case 0x86: let b = try popEntry(), a = try popEntry(); try push(.tuple([a.value, b.value]), from: [a, b])  // TUPLE2
            case 0x87:                                                   // TUPLE3
                let c = try popEntry(), b = try popEntry(), a = try popEntry()
                try push(.tuple([a.value, b.value, c.value]), from: [a, b, c])
            case 0x6C: let items = try popToMark(); try push(.list(items.map(\.value)), from: items)    // LIST
            case 0x64: let items = try popToMark(); try push(.dict(try pairs(items)), from: items)      // DICT
            case 0x61:                                                   // APPEND
                let item = try popEntry(), list = try popEntry()
                guard case .list(let items) = list.value else { throw fail("APPEND to a non-list") }
                try push(.list(items + [item.value]), from: [item], into: list)
            case 0x65:                                                   // APPENDS
                let items = try popToMark(), list = try popEntry()
                guard case .list(let existing) = list.value else { throw fail("APPENDS to a non-list") }
                try push(.list(existing + items.map(\.value)), from: items, into: list)
            case 0x73:                                                   // SETITEM
                let value = try popEntry(), key = try popEntry(), dict = try popEntry()
                guard case .dict(let entries) = dict.value else { throw fail("SETITEM on a non-dict") }
                try push(.dict(entries + [(key.value, value.value)]), from: [key, value], into: dict)
            case 0x75:                                                   // SETITEMS
                let items = try popToMark(), dict = try popEntry()
                guard case .dict(let entries) = dict.value else { throw fail("SETITEMS on a non-dict") }
                try push(.dict(entries + (try pairs(items))), from: items, into: dict)
            case 0x51:                                                   // BINPERSID
                let id = try popEntry()
                try push(try persistent(id.value), from: [id])
            case 0x52:                                                   // REDUCE
                let arguments = try popEntry(), callable = try popEntry()
                try push(try reduce(callable.value, arguments.value), from: [callable, arguments])
            case 0x62:                                                   // BUILD: state of an OrderedDict or tensor
                _ = try pop()
                guard let target = stack.last?.value else { throw fail("BUILD without an object") }
                switch target {
                case .dict, .tensor: break
                default: throw fail("BUILD on an unsupported object")
                }
            default:
                throw ModelFileError.unsupported(format: "PyTorch pickle", reason: String(format: "opcode 0x%02x at byte %d", opcode, position - 1))
            }
        }
    }

    func pairs(_ items: [Entry]) throws -> [(Value, Value)] {
        guard items.count % 2 == 0 else { throw fail("odd number of dictionary items") }
        return stride(from: 0, to: items.count, by: 2).map { (items[$0].value, items[$0 + 1].value) }
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
