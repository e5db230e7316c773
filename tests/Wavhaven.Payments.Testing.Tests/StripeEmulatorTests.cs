using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests;

public sealed class StripeEmulatorTests
{
    [Fact]
    public async Task StartAsync_WithDefaults_ListensOnLoopbackAndAcceptsTheDefaultKey()
    {
        await using var sut = await StripeEmulator.StartAsync();
        using var stripe = new StripeHttp(sut, "sk_test_emulator");

        var answer = await stripe.GetAsync("/v1/customers");

        sut.BaseUrl.Host.Should().Be("127.0.0.1");
        sut.BaseUrl.Port.Should().BePositive();
        sut.SecretKey.Should().Be(StripeEmulatorOptions.DefaultSecretKey);
        answer.Status.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task StartAsync_OnAFixedPort_ListensThere()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        await using var sut = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Port = port, SecretKey = "sk_test_other" });

        sut.BaseUrl.Should().Be(new Uri($"http://127.0.0.1:{port}/"));
        using var stripe = new StripeHttp(sut);
        (await stripe.GetAsync("/v1/customers")).Status.Should().Be(HttpStatusCode.OK);
    }

    public static TheoryData<Action<StripeEmulatorOptions>> InvalidOptions => new()
    {
        options => options.SecretKey = " ",
        options => options.Port = 70000,
        options => options.MaxDeliveryAttempts = 0,
        options => options.WebhookTimeout = TimeSpan.Zero,
        options => options.WebhookRetryDelays = [TimeSpan.FromSeconds(-1)],
        options => options.WebhookEndpoints.Add(new WebhookEndpointOptions { Url = new Uri("/relative", UriKind.Relative) }),
        options => options.Plans = [.. TestPlans.Create(), .. TestPlans.Create()],
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public async Task StartAsync_WithInvalidOptions_ThrowsArgumentException(Action<StripeEmulatorOptions> breakIt)
    {
        var options = new StripeEmulatorOptions();
        breakIt(options);

        var act = () => StripeEmulator.StartAsync(options);

        await act.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task PublicMethods_GuardTheirArguments()
    {
        await using var sut = await StripeEmulator.StartAsync();

        sut.Invoking(s => s.AddWebhookEndpoint(null!)).Should().Throw<ArgumentNullException>();
        sut.Invoking(s => s.AddWebhookEndpoint(new Uri("ftp://127.0.0.1/x"))).Should().Throw<ArgumentException>();
        sut.Invoking(s => s.FailNextRenewal("")).Should().Throw<ArgumentException>();
        sut.Invoking(s => s.FailNextRenewal("sub_unknown")).Should().Throw<ArgumentException>();
        await sut.Invoking(s => s.CompleteCheckoutAsync("")).Should().ThrowAsync<ArgumentException>();
        await sut.Invoking(s => s.CompleteCheckoutAsync("cs_test_unknown")).Should().ThrowAsync<InvalidOperationException>();
        await sut.Invoking(s => s.SettleAsyncPaymentAsync("", true)).Should().ThrowAsync<ArgumentException>();
        FluentActions.Invoking(() => StripeTestEvent.Create("", new JsonObject())).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => StripeTestEvent.Create("invoice.paid", null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public async Task WebhookEndpointsFromOptions_ReceiveEventsSignedWithTheirSecret()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var sut = await StripeEmulator.StartAsync(new StripeEmulatorOptions
        {
            WebhookEndpoints = { new WebhookEndpointOptions { Url = receiver.Url, Secret = "whsec_fixed" } },
        });
        using var stripe = new StripeHttp(sut);

        await stripe.PostOkAsync("/v1/customers", "email=a%40example.com");
        await sut.WaitForDeliveriesAsync();

        var webhook = receiver.Accepted.Single();
        Wavhaven.Payments.Webhooks.StripeWebhookSignature.Verify(webhook.Body, webhook.Signature, ["whsec_fixed"], TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow)
            .Should().Be(Wavhaven.Payments.Webhooks.WebhookSignatureStatus.Valid);
    }

    /// <summary>
    /// A disposed emulator (say a shared fixture another test class already disposed) must say so. It threw only from
    /// CompleteCheckoutAsync, and there as a disposed HttpClient's error; AdvanceClockAsync renewed subscriptions whose
    /// webhooks were silently dropped, and AddWebhookEndpoint and FailNextRenewal accepted what would never happen, so
    /// the test failed later, on the app's state, with nothing pointing at the emulator.
    /// </summary>
    [Fact]
    public async Task DisposedEmulator_RefusesEveryAction_WithObjectDisposedException()
    {
        var sut = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = TestPlans.Create() });
        string sessionId;
        using (var stripe = new StripeHttp(sut))
        {
            sessionId = (await stripe.PostOkAsync("/v1/checkout/sessions",
                "mode=payment&line_items[0][price]=" + TestPlans.LicensePrice + "&line_items[0][quantity]=1&success_url=https%3A%2F%2Fshop.example%2Fok"))["id"]!.GetValue<string>();
        }

        await sut.DisposeAsync();

        await sut.Awaiting(s => s.AdvanceClockAsync(TimeSpan.FromDays(40))).Should().ThrowAsync<ObjectDisposedException>().WithMessage("*StripeEmulator*");
        await sut.Awaiting(s => s.CompleteCheckoutAsync(sessionId)).Should().ThrowAsync<ObjectDisposedException>().WithMessage("*StripeEmulator*");
        await sut.Awaiting(s => s.SettleAsyncPaymentAsync(sessionId, true)).Should().ThrowAsync<ObjectDisposedException>().WithMessage("*StripeEmulator*");
        sut.Invoking(s => s.AddWebhookEndpoint(new Uri("http://127.0.0.1:1/hook"))).Should().Throw<ObjectDisposedException>().WithMessage("*StripeEmulator*");
        sut.Invoking(s => s.FailNextRenewal("sub_any")).Should().Throw<ObjectDisposedException>().WithMessage("*StripeEmulator*");
    }

    /// <summary>
    /// Paying a session twice is a test author's mistake; the message must say why. The page of a complete session
    /// carries its notice in <c>&lt;p class="notice"&gt;</c>, which the summary did not look for: "answered 409 (no details)".
    /// </summary>
    [Fact]
    public async Task CompleteCheckoutAsync_OnACompletedSession_SaysTheSessionIsComplete()
    {
        await using var sut = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = TestPlans.Create() });
        using var stripe = new StripeHttp(sut);
        var sessionId = (await stripe.PostOkAsync("/v1/checkout/sessions",
            "mode=payment&line_items[0][price]=" + TestPlans.LicensePrice + "&line_items[0][quantity]=1&success_url=https%3A%2F%2Fshop.example%2Fok"))["id"]!.GetValue<string>();
        await sut.CompleteCheckoutAsync(sessionId);

        var again = () => sut.CompleteCheckoutAsync(sessionId);

        (await again.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("session is complete").And.NotContain("no details");
    }

    /// <summary>
    /// Parallel test classes each start an emulator; handing one the URL of another's session (or a page that is not a
    /// Checkout page at all, like the success URL) is an easy mistake. The emulator read the URL's last segment as a
    /// session id on its own server and answered "does not exist" (for the success URL: "Checkout session 'ok'"), with
    /// nothing saying the URL was not its own.
    /// </summary>
    [Fact]
    public async Task CompleteCheckoutAsync_WithAUrlThatIsNotThisEmulatorsCheckoutPage_SaysSo()
    {
        await using var sut = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = TestPlans.Create() });
        await using var other = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = TestPlans.Create() });
        using var otherStripe = new StripeHttp(other);
        var session = await otherStripe.PostOkAsync("/v1/checkout/sessions",
            "mode=payment&line_items[0][price]=" + TestPlans.LicensePrice + "&line_items[0][quantity]=1&success_url=https%3A%2F%2Fshop.example%2Fok");

        var otherEmulators = () => sut.CompleteCheckoutAsync((string)session["url"]!);
        var successUrl = () => sut.CompleteCheckoutAsync("https://shop.example/ok?session_id=" + (string)session["id"]!);

        (await otherEmulators.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain(other.BaseUrl.ToString()).And.Contain(sut.BaseUrl.ToString());
        (await successUrl.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("not").And.Contain(sut.BaseUrl + "checkout/pay/");
        (await other.CompleteCheckoutAsync((string)session["url"]!)).Should().Be(new Uri("https://shop.example/ok"), "the right emulator still pays it");
    }

    [Fact]
    public async Task DisposeAsync_Twice_IsHarmless()
    {
        var sut = await StripeEmulator.StartAsync();

        await sut.DisposeAsync();
        var again = async () => await sut.DisposeAsync();

        await again.Should().NotThrowAsync();
    }
}
