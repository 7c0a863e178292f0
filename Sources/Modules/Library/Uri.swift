import Foundation
import OrderedCollections
import PGHACore
import Transport

/// Builds curl invocations whose options (URL, headers, credentials, body) travel as a curl config
/// on standard input (`curl -K -`), so no secret ever appears on a command line.
enum Curl {
    /// A value in curl's config syntax: double-quoted with backslash escapes.
    static func quote(_ text: String) -> String {
        var out = "\""
        for ch in text.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }

    static func config(_ options: [(String, String?)]) -> [UInt8] {
        let lines = options.map { option in option.1.map { "\(option.0) = \(quote($0))" } ?? option.0 }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    struct Response {
        var curlExit: Int
        var error: String
        var status: Int
        var effectiveURL: String
        var headers: OrderedDictionary<String, String>
        var body: [UInt8]
        var redirects: Int
        var elapsed: Double
    }

    /// Runs curl on the host with the config on stdin; the script writes headers and body to a
    /// private temporary directory and prints them base64-encoded after curl's own summary.
    static func perform(_ options: [(String, String?)], context: ModuleContext, timeout: Double?) async throws
        -> Response
    {
        let script = """
            t=$(mktemp -d) || exit 90
            trap 'rm -rf -- "$t"' EXIT
            command -v curl >/dev/null || { echo 'curl is not installed on the host' >&2; exit 91; }
            curl -K - -s -S -D "$t/h" -o "$t/b" -w '%{http_code}|%{num_redirects}|%{time_total}|%{url_effective}' 2>"$t/e" > "$t/w"
            rc=$?
            printf '%s\\n' "$rc"; cat "$t/w"; echo; base64 -w0 < "$t/h"; echo; base64 -w0 < "$t/b" 2>/dev/null; echo; base64 -w0 < "$t/e"; echo
            """
        let result = try await context.connection.run(
            CommandRequest(
                script, stdin: config(options), environment: context.environment, become: context.become,
                timeout: timeout.map { $0 + 30 }))
        if result.exitStatus == 91 || result.exitStatus == 90 {
            throw ModuleFailure(message: result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func decode(_ i: Int) -> [UInt8] { i < lines.count ? Base64.decode(lines[i]) ?? [] : [] }
        let write =
            lines.count > 1
            ? lines[1].split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false).map(String.init) : []
        // Only the last response's headers count (after redirects and 100-continue).
        let headerText = String(decoding: decode(2), as: UTF8.self)
        var headers: OrderedDictionary<String, String> = [:]
        for line in headerText.replacingOccurrences(of: "\r", with: "").split(
            separator: "\n", omittingEmptySubsequences: false)
        {
            if line.hasPrefix("HTTP/") {
                headers = [:]
            } else if let colon = line.firstIndex(of: ":") {
                let key = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                headers[key] = headers[key].map { "\($0), \(value)" } ?? value
            }
        }
        return Response(
            curlExit: Int(lines.first ?? "") ?? -1,
            error: String(decoding: decode(4), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
            status: write.count > 0 ? Int(write[0]) ?? -1 : -1, effectiveURL: write.count > 3 ? write[3] : "",
            headers: headers, body: decode(3), redirects: write.count > 1 ? Int(write[1]) ?? 0 : 0,
            elapsed: write.count > 2 ? Double(write[2]) ?? 0 : 0)
    }

    /// Percent-encoding for form bodies (Python's urlencode with quote_plus).
    static func formEncode(_ dict: OrderedDictionary<String, Value>) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "_.-~")
        func enc(_ s: String) -> String {
            (s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s).replacingOccurrences(of: "%20", with: "+")
        }
        return dict.map { "\(enc($0.key))=\(enc($0.value.pythonString ?? JSON.encode($0.value)))" }.joined(
            separator: "&")
    }
}

/// `ansible.builtin.uri`: an HTTP request made from the host with curl; returns Ansible's keys
/// (status, url, msg, redirected, elapsed, lower-cased headers, content, json).
public enum UriModule: Module {
    public static let declaration = ActionDeclaration(
        name: "uri", qualifiedNames: ["ansible.builtin.uri", "ansible.legacy.uri"],
        supportsCheckMode: false,
        arguments: ArgumentSpec([
            .init("url", .string, required: true),
            .init("method", .string, default: "GET"),
            .init("body", .raw),
            .init("body_format", .choice(["form-urlencoded", "json", "raw", "form-multipart"]), default: "raw"),
            .init("headers", .dict, default: .dict([:])),
            .init("status_code", .list, default: [200]),
            .init("return_content", .bool, default: false),
            .init("validate_certs", .bool, default: true),
            .init("client_cert", .path),
            .init("client_key", .path),
            .init("ca_path", .path),
            .init("timeout", .int, default: 30),
            .init("url_username", .string, aliases: ["user"]),
            .init("url_password", .string, aliases: ["password"], secret: true),
            .init("force_basic_auth", .bool, default: false),
            .init("follow_redirects", .choice(["all", "no", "none", "safe", "urllib2", "yes"]), default: "safe"),
            .init("force", .bool, default: false),
            .init("use_proxy", .bool, default: true),
            .init("unix_socket", .path),
            .init("http_agent", .string, default: "ansible-httpget"),
            .init("dest", .path),
            .init("creates", .path),
            .init("removes", .path),
            .init("src", .path),
            .init("remote_src", .bool, default: false),
            .init("decompress", .bool, default: true),
            .init("use_gssapi", .bool, default: false),
            .init("use_netrc", .bool, default: true),
            .init("ciphers", .list),
            .init("unredirected_headers", .list, default: []),
        ]),
        documentation: ActionDocumentation(
            "Interacts with webservices",
            examples: """
                - name: Ask Patroni whether this host is the leader
                  ansible.builtin.uri:
                    url: http://localhost:8008/primary
                    status_code: [200, 503]
                  register: primary
                """))

    public static func run(_ args: ModuleArguments, context: ModuleContext) async throws -> ModuleResult {
        let url = args.string("url") ?? ""
        let method = (args.string("method") ?? "GET").uppercased()
        for unsupported in ["dest", "src"] where args[unsupported] != nil {
            return .failure("uri: \(unsupported) is not supported by this engine")
        }
        // uri.py checks these before any request is made.
        switch try await CommandOutput.pathCondition(args, context: context) {
        case .created(let creates)?:
            return ModuleResult(changed: false, values: ["stdout": .string("skipped, since '\(creates)' exists")])
        case .removed(let removes)?:
            return ModuleResult(changed: false, values: ["stdout": .string("skipped, since '\(removes)' does not exist")])
        case nil:
            break
        }
        var headers: OrderedDictionary<String, String> = [:]
        for (k, v) in args["headers"]?.dictValue ?? [:] { headers[k] = v.pythonString ?? JSON.encode(v) }
        var body: String?
        switch (args.string("body_format") ?? "raw", args["body"]) {
        case (_, nil): body = nil
        case ("json", let value?):
            body = value.stringValue ?? JSON.encode(value)
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
                headers["Content-Type"] = "application/json"
            }
        case ("form-urlencoded", let value?):
            if case .dict(let d) = value { body = Curl.formEncode(d) } else { body = value.pythonString }
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            }
        case ("form-multipart", _):
            return .failure("body_format=form-multipart is not supported by this engine")
        case (_, let value?): body = value.pythonString ?? JSON.encode(value)
        }
        let statusCodes = (args["status_code"]?.listValue ?? [200]).compactMap {
            $0.intValue ?? Int($0.pythonString ?? "")
        }
        let timeout = Double(args.int("timeout") ?? 30)
        var options: [(String, String?)] = [("url", url), ("request", method), ("max-time", String(Int(timeout)))]
        options.append(("user-agent", args.string("http_agent") ?? "ansible-httpget"))
        for (k, v) in headers { options.append(("header", "\(k): \(v)")) }
        if let body { options.append(("data-binary", body)) }
        let follow = args.string("follow_redirects") ?? "safe"
        if ["all", "yes"].contains(follow)
            || (["safe", "urllib2"].contains(follow) && ["GET", "HEAD"].contains(method))
        {
            options.append(("location", nil))
        }
        if !(args.bool("validate_certs") ?? true) { options.append(("insecure", nil)) }
        if let cert = args.string("client_cert") { options.append(("cert", cert)) }
        if let key = args.string("client_key") { options.append(("key", key)) }
        if let ca = args.string("ca_path") { options.append(("cacert", ca)) }
        if let socket = args.string("unix_socket") { options.append(("unix-socket", socket)) }
        if !(args.bool("use_proxy") ?? true) { options.append(("noproxy", "*")) }
        if let user = args.string("url_username") {
            // curl sends basic credentials up front: force_basic_auth's behaviour.
            options.append(("user", "\(user):\(args.string("url_password") ?? "")"))
            options.append(("basic", nil))
        }
        let response: Curl.Response
        do {
            response = try await Curl.perform(options, context: context, timeout: timeout)
        } catch let failure as ModuleFailure {
            return failure.result
        }
        var values: OrderedDictionary<String, Value> = [:]
        for (k, v) in response.headers { values[k.replacingOccurrences(of: "-", with: "_")] = .string(v) }
        values["redirected"] = .bool(response.redirects > 0)
        values["url"] = .string(response.effectiveURL.isEmpty ? url : response.effectiveURL)
        values["status"] = .int(response.curlExit == 0 ? response.status : -1)
        values["elapsed"] = .int(Int(response.elapsed))
        let msg: String
        if response.curlExit != 0 {
            msg = "Request failed: \(response.error)"
        } else {
            msg = "OK (\(response.headers["content-length"] ?? "unknown") bytes)"
        }
        let text = String(decoding: response.body, as: UTF8.self)
        if (response.headers["content-type"] ?? "").contains("json"), let parsed = try? JSON.decode(text) {
            values["json"] = parsed
        }
        if args.bool("return_content") ?? false { values["content"] = .string(text) }
        let status = response.curlExit == 0 ? response.status : -1
        if !statusCodes.contains(status) {
            let reason = response.curlExit == 0 ? "HTTP Error \(status)" : msg
            return ModuleResult(
                failed: true,
                msg: "Status code was \(status) and not \(JSON.encode(.list(statusCodes.map(Value.int)))): \(reason)",
                values: values)
        }
        return ModuleResult(changed: false, msg: msg, values: values)
    }
}
