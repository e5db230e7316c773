using Microsoft.EntityFrameworkCore;

namespace Wavhaven.Store.Data;

/// <summary>Creates the database on first run and fills the beat catalog.</summary>
public static class SeedData
{
    public static readonly Beat[] Beats =
    [
        new() { Id = "midnight-drive", Title = "Midnight Drive", Producer = "Kaito", Bpm = 92, PriceCents = 2900 },
        new() { Id = "golden-hour", Title = "Golden Hour", Producer = "Ama", Bpm = 84, PriceCents = 2900 },
        new() { Id = "concrete-bloom", Title = "Concrete Bloom", Producer = "Rook", Bpm = 140, PriceCents = 3900 },
        new() { Id = "low-tide", Title = "Low Tide", Producer = "Selin", Bpm = 76, PriceCents = 2400 },
        new() { Id = "neon-rain", Title = "Neon Rain", Producer = "Kaito", Bpm = 128, PriceCents = 3400 },
        new() { Id = "paper-planes", Title = "Paper Planes", Producer = "Ama", Bpm = 100, PriceCents = 1900 },
    ];

    public static async Task InitializeAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<StoreDbContext>();
        await db.Database.EnsureCreatedAsync(cancellationToken);
        if (!await db.Beats.AnyAsync(cancellationToken))
        {
            db.Beats.AddRange(Beats.Select(beat => new Beat { Id = beat.Id, Title = beat.Title, Producer = beat.Producer, Bpm = beat.Bpm, PriceCents = beat.PriceCents }));
            await db.SaveChangesAsync(cancellationToken);
        }
    }
}
