//! What the POP3 and SMTP clients have in common as sans-I/O state machines, so that one
//! driver loop (`blocking.rs`) and one transcript harness (`transcript.rs`) serve both.

/// A client as a driver sees it: bytes in, events and bytes out.
pub(crate) trait SansIo {
    type Event;
    type Error: std::fmt::Debug;
    fn receive(&mut self, bytes: &[u8]);
    fn next_event(&mut self) -> Result<Option<Self::Event>, Self::Error>;
    fn take_outgoing(&mut self) -> Option<Vec<u8>>;
    fn tls_started(&mut self) -> Result<(), Self::Error>;
    fn connection_lost(&mut self) -> Self::Error;
    /// Only the transcript harness asks (a blocking driver learns it from the events).
    #[cfg(test)]
    fn is_closed(&self) -> bool;
    /// Whether `event` asks the driver for the TLS handshake now.
    fn starts_tls(event: &Self::Event) -> bool;
}

/// Implements [`SansIo`] for a client by calling its inherent methods of the same names.
macro_rules! sans_io {
    ($client:ty, $event:ty, $error:ty) => {
        impl crate::sans_io::SansIo for $client {
            type Event = $event;
            type Error = $error;
            fn receive(&mut self, bytes: &[u8]) {
                <$client>::receive(self, bytes)
            }
            fn next_event(&mut self) -> Result<Option<$event>, $error> {
                <$client>::next_event(self)
            }
            fn take_outgoing(&mut self) -> Option<Vec<u8>> {
                <$client>::take_outgoing(self)
            }
            fn tls_started(&mut self) -> Result<(), $error> {
                <$client>::tls_started(self)
            }
            fn connection_lost(&mut self) -> $error {
                <$client>::connection_lost(self)
            }
            #[cfg(test)]
            fn is_closed(&self) -> bool {
                <$client>::is_closed(self)
            }
            fn starts_tls(event: &$event) -> bool {
                matches!(event, <$event>::StartTls)
            }
        }
    };
}
pub(crate) use sans_io;
