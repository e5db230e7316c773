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

    /// <summary>The threads start together, so that a buffer shared between them would hand out keys twice.</summary>
    [Fact]
    public void New_OnThreadsRunningAtOnce_NeverRepeatsAKey()
    {
        const int Threads = 8, PerThread = 20_000;
        var keys = new string[Threads][];
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var mine = new string[PerThread];
            start.SignalAndWait();
            for (var i = 0; i < PerThread; i++)
            {
                mine[i] = IdempotencyKeys.New("k-");
            }

            keys[t] = mine;
        })).ToList();

        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());

        var all = keys.SelectMany(mine => mine).ToList();
        all.Should().HaveCount(Threads * PerThread).And.OnlyHaveUniqueItems();
    }
}
