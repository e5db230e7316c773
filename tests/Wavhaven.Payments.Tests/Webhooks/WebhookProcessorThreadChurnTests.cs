using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;
using Xunit.Abstractions;

namespace Wavhaven.Payments.Tests.Webhooks;

[CollectionDefinition(nameof(ThreadChurnCollection), DisableParallelization = true)]
public sealed class ThreadChurnCollection
{
}

/// <summary>
/// A webhook endpoint runs for weeks on the thread pool, which retires idle threads and makes new ones as the load comes
/// and goes: whatever the processor keeps per thread must go with the thread.
/// </summary>
/// <remarks>Alone, since it reads the heap: no other test allocates beside it.</remarks>
[Collection(nameof(ThreadChurnCollection))]
public class WebhookProcessorThreadChurnTests(ITestOutputHelper output)
{
    private const string Secret = "whsec_thread_churn_secret";

    [Fact]
    public void DeliveriesVerifiedOnThreadsThatThenEnd_LeaveNothingBehind_HoweverManyThreadsCameAndWent()
    {
        using var services = TestServices.Build(new StubStripeHandler(), options => options.WebhookSecrets.Add(Secret));
        var processor = services.GetRequiredService<IWebhookProcessor>();
        var body = Encoding.UTF8.GetBytes("""{"id":"evt_churn","object":"event","type":"charge.succeeded","data":{"object":{"id":"ch_1","object":"charge"}}}""");

        // Signed with another secret: the processor computes the HMAC under its own key (on the calling thread, before any
        // await), finds no match and answers 400, with no store, handler or scope involved.
        var header = StripeWebhookSignature.CreateHeader(body, "whsec_someone_else", DateTimeOffset.UtcNow);

        void VerifyOnNewThreads(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var thread = new Thread(() => processor.ProcessAsync(body, header).GetAwaiter().GetResult().Outcome.Should().Be(WebhookOutcome.InvalidSignature));
                thread.Start();
                thread.Join();
            }
        }

        VerifyOnNewThreads(200); // warm up: JIT, caches, the processor's first states
        var before = HeapAfterFullCollection();
        VerifyOnNewThreads(3_000);
        var after = HeapAfterFullCollection();

        var perThread = (after - before) / 3_000.0;
        output.WriteLine($"heap {before:N0} B -> {after:N0} B after 3,000 threads: {perThread:F1} B per thread");
        perThread.Should().BeLessThan(100, "a thread that has ended takes its HMAC state with it (the pool replaces threads for as long as the app runs)");
    }

    private static long HeapAfterFullCollection()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
