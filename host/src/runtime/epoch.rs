//! The epoch ticker: advances wasmtime's epoch, the clock of every plugin's CPU time limit,
//! while some plugin instance exists, and sleeps without waking while none does.
//!
//! Plugin code runs only inside a store, and every store holds a [`Ticking`] from the moment
//! it is made until it is dropped, so no plugin code runs while the ticker is parked. An idle
//! daemon (no job, no session open) then uses no CPU for time limits at all.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use wasmtime::{Engine, EngineWeak};

use crate::{Error, Result};

/// How often the epoch advances; time limits are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The ticker's shared state: how many stores are alive, and whether the runtime is gone.
#[derive(Default)]
struct Demand {
    stores: usize,
    stopped: bool,
}

/// Advances an engine's epoch every [`EPOCH_TICK`] while stores are alive.
pub(crate) struct EpochTicker {
    demand: Mutex<Demand>,
    wake: Condvar,
}

impl EpochTicker {
    /// Start the ticker thread for `engine`. It ends when the engine is dropped or
    /// [`EpochTicker::stop`] is called.
    pub(crate) fn start(engine: &Engine) -> Result<Arc<Self>> {
        let ticker = Arc::new(EpochTicker {
            demand: Mutex::new(Demand::default()),
            wake: Condvar::new(),
        });
        let weak = engine.weak();
        let thread_ticker = ticker.clone();
        std::thread::Builder::new()
            .name("qualityd-epoch".into())
            .spawn(move || thread_ticker.run(weak))
            .map_err(|e| Error::Internal(format!("cannot start the epoch thread: {e}")))?;
        Ok(ticker)
    }

    /// Keep the epoch advancing until the returned guard is dropped (one per store).
    pub(crate) fn hold(self: &Arc<Self>) -> Ticking {
        let mut demand = self.lock();
        demand.stores += 1;
        if demand.stores == 1 {
            self.wake.notify_all();
        }
        Ticking(self.clone())
    }

    /// End the ticker thread (the runtime is being dropped).
    pub(crate) fn stop(&self) {
        self.lock().stopped = true;
        self.wake.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Demand> {
        // The state is two plain fields, valid whatever a panicking holder did.
        self.demand.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run(&self, weak: EngineWeak) {
        loop {
            {
                let mut demand = self.lock();
                while demand.stores == 0 && !demand.stopped {
                    demand = self
                        .wake
                        .wait(demand)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if demand.stopped {
                    return;
                }
            }
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
            std::thread::sleep(EPOCH_TICK);
        }
    }

    #[cfg(test)]
    fn stores(&self) -> usize {
        self.lock().stores
    }
}

/// Held by a store for its whole life: the epoch advances while any is held.
pub struct Ticking(Arc<EpochTicker>);

impl Drop for Ticking {
    fn drop(&mut self) {
        self.0.lock().stores -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::Config;

    fn engine() -> Engine {
        let mut config = Config::new();
        config.epoch_interruption(true);
        Engine::new(&config).unwrap()
    }

    /// Run a guest that spins forever, on its own thread, with a deadline one tick away:
    /// the receiver hears when the epoch advanced and stopped it.
    fn spin_until_the_epoch_advances(engine: &Engine) -> std::sync::mpsc::Receiver<bool> {
        let mut store = wasmtime::Store::new(engine, ());
        store.set_epoch_deadline(1);
        store.epoch_deadline_trap();
        // (module (func (export "spin") (loop br 0)))
        let wasm = [
            0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
            0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
            0x03, 0x02, 0x01, 0x00, // one function of that type
            0x07, 0x08, 0x01, 0x04, b's', b'p', b'i', b'n', 0x00, 0x00, // export "spin"
            0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop br 0
        ];
        let module = wasmtime::Module::from_binary(engine, &wasm).unwrap();
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
        let spin = instance
            .get_typed_func::<(), ()>(&mut store, "spin")
            .unwrap();
        let (sent, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let trapped = spin.call(&mut store, ()).is_err();
            let _ = sent.send(trapped);
        });
        received
    }

    #[test]
    fn the_epoch_advances_only_while_a_store_holds_the_ticker() {
        let engine = engine();
        let ticker = EpochTicker::start(&engine).unwrap();
        let held = ticker.hold();
        assert_eq!(ticker.stores(), 1);
        let stopped = spin_until_the_epoch_advances(&engine);
        assert_eq!(
            stopped.recv_timeout(Duration::from_secs(5)),
            Ok(true),
            "a held ticker interrupts a spinning guest"
        );
        drop(held);
        assert_eq!(ticker.stores(), 0);
        // Let a tick in progress finish; then nothing may advance the epoch.
        std::thread::sleep(EPOCH_TICK * 3);
        let spinning = spin_until_the_epoch_advances(&engine);
        assert!(
            spinning.recv_timeout(EPOCH_TICK * 30).is_err(),
            "a parked ticker does not advance the epoch"
        );
        // Holding it again wakes the ticker, which stops the guest.
        let _held = ticker.hold();
        assert_eq!(
            spinning.recv_timeout(Duration::from_secs(5)),
            Ok(true),
            "a woken ticker interrupts the guest"
        );
        ticker.stop();
    }
}
