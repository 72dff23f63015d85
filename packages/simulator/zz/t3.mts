import('@ha/transport').then(()=>console.log('ok'))
