//! Admin SQL shared by both backends, stamped onto each by `impl_admin_store!`.

macro_rules! impl_admin_store {
    ($store:ty, $db:ty) => {
        #[async_trait]
        impl crate::store::admin::AdminStore for $store {}
    };
}

pub(crate) use impl_admin_store;
