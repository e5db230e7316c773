using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Stripe;

/// <summary>
/// Stripe's API never redirects, and Stripe's own clients follow no redirect: a 3xx from whatever answers at
/// <c>ApiBaseUrl</c> (a captive portal, a misconfigured proxy or gateway) must not make the client send the buyer's
/// data, the idempotency key and the Stripe-Account header on to another host, nor read that host's answer as Stripe's.
/// These run the library's real HttpClient pipeline (the factory's primary handler), against two servers on loopback.
/// </summary>
public sealed class StripeHttpClientRedirectTests
{
    [Fact]
    public async Task Checkout_AnsweredWithARedirectToAnotherHost_IsNotFollowed()
    {
        using var elsewhere = new RawHttpServer(IPAddress.IPv6Any, _ => (200, """{"id":"cs_test_elsewhere","object":"checkout.session","url":"https://attacker.example/pay","expires_at":1900000000}""", null));
        using var stripe = new RawHttpServer(IPAddress.Loopback, _ => (307, "", $"http://localhost:{elsewhere.Port}/v1/checkout/sessions"));
        using var services = Build(new Uri($"http://127.0.0.1:{stripe.Port}/"));
        using var scope = services.CreateScope();

        var act = () => scope.ServiceProvider.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest("private.person@example.com", "order-1"),
            Lines = [CheckoutLine.ForPlan("beat-license")],
            FulfillmentType = "license",
            IdempotencyKey = "order-1-checkout-1",
        });

        (await act.Should().ThrowAsync<StripeApiException>()).Which.StatusCode.Should().Be(307);
        stripe.Requests.Should().ContainSingle();
        elsewhere.Requests.Should().BeEmpty("the buyer's email and the idempotency key must not be sent to another host");
    }

    [Fact]
    public async Task Get_AnsweredWithARedirect_IsNotFollowed()
    {
        using var elsewhere = new RawHttpServer(IPAddress.IPv6Any, _ => (200, """{"id":"cs_test_1","object":"checkout.session","status":"complete","payment_status":"paid","metadata":{}}""", null));
        using var stripe = new RawHttpServer(IPAddress.Loopback, _ => (302, "", $"http://localhost:{elsewhere.Port}/v1/checkout/sessions/cs_test_1"));
        using var services = Build(new Uri($"http://127.0.0.1:{stripe.Port}/"));

        var act = () => services.GetRequiredService<IStripeClient>().GetCheckoutSessionAsync("cs_test_1", "acct_connected", CancellationToken.None);

        (await act.Should().ThrowAsync<StripeApiException>()).Which.StatusCode.Should().Be(302);
        elsewhere.Requests.Should().BeEmpty("a redirect's target is not Stripe, and the Stripe-Account header must stay with Stripe");
    }

    private static ServiceProvider Build(Uri apiBaseUrl)
    {
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddStripePayments(options =>
        {
            TestServices.DefaultOptions(options);
            options.ApiBaseUrl = apiBaseUrl;
            options.MaxNetworkRetries = 0;
        });
        return collection.BuildServiceProvider();
    }

    /// <summary>A one-answer-per-connection HTTP/1.1 server on loopback that records each request's head and body.</summary>
    private sealed class RawHttpServer : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly Func<string, (int Status, string Body, string? Location)> _answer;
        private readonly CancellationTokenSource _stop = new();

        public RawHttpServer(IPAddress address, Func<string, (int Status, string Body, string? Location)> answer)
        {
            _answer = answer;
            _listener = new TcpListener(address, 0);
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                _listener.Server.DualMode = true;
            }

            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public ConcurrentQueue<string> Requests { get; } = new();

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }

                _ = ServeAsync(client);
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                var stream = client.GetStream();
                var received = new List<byte>();
                var buffer = new byte[8192];
                int headEnd;
                while ((headEnd = IndexOfHeadEnd(received)) < 0)
                {
                    var read = await stream.ReadAsync(buffer);
                    if (read == 0)
                    {
                        return;
                    }

                    received.AddRange(buffer.AsSpan(0, read).ToArray());
                }

                var head = Encoding.ASCII.GetString(received.ToArray(), 0, headEnd);
                var length = head.Split("\r\n").Where(line => line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                    .Select(line => int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
                while (received.Count < headEnd + 4 + length)
                {
                    var read = await stream.ReadAsync(buffer);
                    if (read == 0)
                    {
                        break;
                    }

                    received.AddRange(buffer.AsSpan(0, read).ToArray());
                }

                var request = Encoding.UTF8.GetString(received.ToArray());
                Requests.Enqueue(request);
                var (status, body, location) = _answer(request);
                var bytes = Encoding.UTF8.GetBytes(body);
                var response = $"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n"
                    + (location is null ? string.Empty : $"Location: {location}\r\n") + "\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
                await stream.WriteAsync(bytes);
            }
        }

        private static int IndexOfHeadEnd(List<byte> bytes)
        {
            for (var i = 0; i + 3 < bytes.Count; i++)
            {
                if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
