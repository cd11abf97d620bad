import Foundation

/// A JSON value with ordered object keys, printed on one line (the command contract's key order).
indirect enum JSONValue {
    case string(String)
    case number(Double)
    case float(Float)
    case int(Int)
    case bool(Bool)
    case array([JSONValue])
    case object([(String, JSONValue)])
    case null

    var encoded: String {
        switch self {
        case .string(let text): return JSONValue.quote(text)
        case .number(let value): return value.isFinite ? String(format: "%.3f", value) : "null"
        case .float(let value): return value.isFinite ? "\(value)" : "null"
        case .int(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .array(let values): return "[" + values.map(\.encoded).joined(separator: ",") + "]"
        case .object(let pairs): return "{" + pairs.map { JSONValue.quote($0.0) + ":" + $0.1.encoded }.joined(separator: ",") + "}"
        case .null: return "null"
        }
    }

    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 { result += String(format: "\\u%04x", scalar.value) } else { result.unicodeScalars.append(scalar) }
            }
        }
        return result + "\""
    }
}
