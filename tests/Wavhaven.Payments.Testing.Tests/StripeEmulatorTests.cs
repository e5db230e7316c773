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

    [Fact]
    public async Task DisposeAsync_Twice_IsHarmless()
    {
        var sut = await StripeEmulator.StartAsync();

        await sut.DisposeAsync();
        var again = async () => await sut.DisposeAsync();

        await again.Should().NotThrowAsync();
    }
}
