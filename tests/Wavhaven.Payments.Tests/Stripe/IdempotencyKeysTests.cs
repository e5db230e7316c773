using System.Collections.Concurrent;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Tests.Stripe;

public class IdempotencyKeysTests
{
    [Fact]
    public void New_ManyDrawsOfRandomBytes_NeverRepeatsAKey()
    {
        var keys = Enumerable.Range(0, 1_000).Select(_ => IdempotencyKeys.New("wavhaven-")).ToList();

        keys.Should().OnlyHaveUniqueItems().And.AllSatisfy(key => key.Should().MatchRegex("^wavhaven-[0-9a-f]{32}$"));
    }

    [Fact]
    public async Task New_OnManyThreads_NeverRepeatsAKey()
    {
        var keys = new ConcurrentBag<string>();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                keys.Add(IdempotencyKeys.New("k-"));
            }
        })));

        keys.Should().HaveCount(4_000).And.OnlyHaveUniqueItems();
    }
}
