using System.Net.Sockets;
using System.Text;

namespace Wavhaven.Payments.AspNetCore.Tests.Support;

/// <summary>A raw HTTP/1.1 client over a socket: sends exactly the bytes given, reads the answer until the server closes or a timeout.</summary>
public static class RawHttp
{
    public static async Task<Socket> ConnectAsync(Uri address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(address.Host, address.Port);
        return socket;
    }

    public static Task SendAsync(Socket socket, string text) => SendAsync(socket, Encoding.ASCII.GetBytes(text));

    public static async Task SendAsync(Socket socket, byte[] bytes) => await socket.SendAsync(bytes, SocketFlags.None);

    /// <summary>Reads until the peer closes, or until a whole response (headers plus Content-Length body) arrived, or the timeout.</summary>
    public static async Task<string> ReadResponseAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var received = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
                if (IsComplete(received.ToArray()))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return Encoding.ASCII.GetString(received.ToArray()) + "<timeout>";
        }
        catch (SocketException exception)
        {
            return Encoding.ASCII.GetString(received.ToArray()) + "<" + exception.SocketErrorCode + ">";
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }

    public static string Request(string method, int? contentLength, string? signature, string extraHeaders = "", string path = "/api/webhooks/stripe")
    {
        var text = new StringBuilder();
        text.Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json; charset=utf-8\r\n");
        if (contentLength is { } length)
        {
            text.Append("Content-Length: ").Append(length).Append("\r\n");
        }

        if (signature is not null)
        {
            text.Append("Stripe-Signature: ").Append(signature).Append("\r\n");
        }

        text.Append(extraHeaders).Append("\r\n");
        return text.ToString();
    }

    public static int StatusOf(string response) =>
        response.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? int.Parse(response.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture) : -1;

    private static bool IsComplete(byte[] bytes)
    {
        var text = Encoding.ASCII.GetString(bytes);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        var headers = text[..end];
        if (headers.StartsWith("HTTP/1.1 100", StringComparison.Ordinal))
        {
            return IsComplete(bytes[(end + 4)..]);
        }

        var marker = headers.IndexOf("Content-Length: ", StringComparison.OrdinalIgnoreCase);
        if (marker < 0)
        {
            return false;
        }

        var lineEnd = headers.IndexOf("\r\n", marker, StringComparison.Ordinal);
        var value = int.Parse((lineEnd < 0 ? headers[(marker + 16)..] : headers[(marker + 16)..lineEnd]).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return bytes.Length >= end + 4 + value;
    }
}
