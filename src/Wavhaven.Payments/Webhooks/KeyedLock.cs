namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// An in-process lock per key, taken asynchronously: one holder per key at a time, the others waiting in turn, any
/// number of keys at once. An entry lives only while a holder or waiter needs it, so the keys of a running app (every
/// subscription that ever had an event) do not pile up.
/// </summary>
internal sealed class KeyedLock
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Gets how many keys are held or waited for now (the entries kept).</summary>
    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Gets how many hold <paramref name="key"/> or wait for it now.</summary>
    public int UsersOf(string key)
    {
        lock (_entries)
        {
            return _entries.TryGetValue(key, out var entry) ? entry.Users : 0;
        }
    }

    /// <summary>
    /// Waits until <paramref name="key"/> is free and takes it; the lock is released by disposing the result. A wait that
    /// <paramref name="cancellationToken"/> ends holds nothing, and leaves nothing behind.
    /// </summary>
    /// <exception cref="OperationCanceledException">The wait was cancelled.</exception>
    public async ValueTask<Holder> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out entry!))
            {
                entry = new Entry();
                _entries.Add(key, entry);
            }

            entry.Users++;
        }

        try
        {
            await entry.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Leave(key, entry);
            throw;
        }

        return new Holder(this, key, entry);
    }

    /// <summary>
    /// Takes <paramref name="key"/> if nobody holds it or waits for it, without waiting; the lock is released by disposing
    /// <paramref name="holder"/>.
    /// </summary>
    /// <returns>Whether the key was taken.</returns>
    public bool TryAcquire(string key, out Holder holder)
    {
        Entry entry;
        lock (_entries)
        {
            if (_entries.ContainsKey(key))
            {
                holder = default;
                return false;
            }

            // An entry lives only while a holder or waiter needs it: a new one's gate is free.
            entry = new Entry { Users = 1 };
            entry.Gate.Wait(0);
            _entries.Add(key, entry);
        }

        holder = new Holder(this, key, entry);
        return true;
    }

    private void Leave(string key, Entry entry)
    {
        lock (_entries)
        {
            if (--entry.Users == 0)
            {
                _entries.Remove(key);
            }
        }
    }

    /// <summary>A key held: disposing it lets the next waiter in.</summary>
    public readonly struct Holder : IDisposable
    {
        private readonly KeyedLock? _owner;
        private readonly string? _key;
        private readonly Entry? _entry;

        internal Holder(KeyedLock owner, string key, Entry entry)
        {
            _owner = owner;
            _key = key;
            _entry = entry;
        }

        public void Dispose()
        {
            if (_entry is not null)
            {
                _entry.Gate.Release();
                _owner!.Leave(_key!, _entry);
            }
        }
    }

    /// <summary>One key's gate, and how many holders and waiters it has (under the dictionary's lock).</summary>
    internal sealed class Entry
    {
        // Never disposed: without AvailableWaitHandle a SemaphoreSlim holds nothing to release.
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int Users { get; set; }
    }
}
